import { expect, type Browser, type BrowserContext, type Page } from "@playwright/test";

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
