// Signed in or not: the token lives in this browser's localStorage until the reviewer signs out or the API
// refuses it.
import { AuthError } from "./api.ts";
import { state } from "./state.ts";
import { ui } from "./ui.ts";

export function showApp(on: boolean): void {
  ui.login.hidden = on;
  ui.app.hidden = !on;
  ui.signout.hidden = !on;
}

export function signOut(message = ""): void {
  localStorage.removeItem("wam.token");
  state.token = "";
  if (ui.viewer.open) ui.viewer.close();
  showApp(false);
  ui.loginError.textContent = message;
}

/** Shows what went wrong; a refused token signs the reviewer out. */
export function fail(err: unknown): void {
  if (err instanceof AuthError) return signOut(err.message);
  ui.error.textContent = err instanceof Error ? err.message : String(err);
}
