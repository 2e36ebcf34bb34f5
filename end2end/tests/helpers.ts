import { expect, type Browser, type BrowserContext, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

export const PASSWORD = "correct horse battery";

/** A fresh address per test, so tests never share an account. */
export function uniqueEmail(prefix = "user"): string {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** Signs up through the form and waits until the header shows the account. */
export async function signUp(page: Page, email: string, baseURL = ""): Promise<void> {
  await page.goto(`${baseURL}/signup`);
  await expect(page.locator("section.card")).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel("E-mail address").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("viewer-email")).toHaveText(email);
}

/** Signs in through the form. */
export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel("E-mail address").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** Resolves once the wasm bundle has taken over the page. */
export async function waitForHydration(page: Page): Promise<void> {
  await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true");
}

/** A second device: its own cookie jar and a different browser. */
export async function secondDevice(browser: Browser, userAgent: string): Promise<BrowserContext> {
  return browser.newContext({ userAgent });
}

/** axe-core's WCAG 2.1 A and AA rules on the page as it is: any serious or critical
 * violation fails, naming the rule and the elements. */
export async function audit(page: Page, label: string): Promise<void> {
  await waitForHydration(page);
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = serious.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(report, `${label}`).toEqual([]);
}

/**
 * Gives this page's browser a client address of its own, sent as `X-Forwarded-For` (the
 * test servers trust 127.0.0.1 as a proxy). For a test that fails a sign-in on purpose:
 * the throttle's per-address bucket is then its own, so other tests' failures, in
 * whatever order they run, cannot make it answer 429.
 */
export async function ownClientAddress(page: Page): Promise<string> {
  const byte = () => Math.floor(Math.random() * 256);
  const address = `10.${byte()}.${byte()}.${byte()}`;
  await page.context().setExtraHTTPHeaders({ "x-forwarded-for": address });
  return address;
}

/**
 * Waits until the server at `base` refuses this browser's access token (it answers
 * `/api/session/me` with 401, which refreshes nothing): the moment a test of expiry
 * needs, rather than a fixed sleep.
 */
export async function untilAccessTokenExpires(page: Page, base: string): Promise<void> {
  await expect
    .poll(async () => (await page.request.post(`${base}/api/session/me`)).status(), {
      timeout: 20_000,
      intervals: [250],
    })
    .toBe(401);
}

/** Waits until this browser's sudo window at `base` has closed (`/api/security/status`). */
export async function untilSudoEnds(page: Page, base: string): Promise<void> {
  await expect
    .poll(async () => (await (await page.request.post(`${base}/api/security/status`)).json()).sudo, {
      timeout: 20_000,
      intervals: [250],
    })
    .toBe(false);
}
