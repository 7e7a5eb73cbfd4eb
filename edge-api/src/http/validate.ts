import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { ZodType } from "zod";
import { ApiError } from "../errors.ts";

/** zValidator whose failures become our 400 body, with zod's issues as details. */
export const validate = <Target extends keyof ValidationTargets, Schema extends ZodType>(target: Target, schema: Schema) =>
  zValidator(target, schema, (result) => {
    if (!result.success) {
      throw new ApiError(400, "invalid_request", `invalid ${target}`, result.error.issues);
    }
  });
