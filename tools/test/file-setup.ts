// Runs in every test file before its tests: what a file's helpers start once per file ends after its tests.
import { afterAll } from "vitest";
import { disposeTestPhotos } from "./photos.ts";

afterAll(disposeTestPhotos);
