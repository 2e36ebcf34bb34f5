import { test, expect, type Browser, type Page } from "@playwright/test";
import { signIn, signUp, uniqueEmail, untilAccessTokenExpires, waitForHydration } from "./helpers";

// Every form of /devices and /account, submitted from a hydrated page whose access token
// has expired meanwhile, against the 2-second-token server. Each call must renew the
// token and go through (the server-function client does it for every call), never
// answer "Your session needs refreshing."
const short = process.env.E2E_SHORT_TTL_URL!;

/** Another browser of the same account on the short-lived server. */
async function otherDevice(browser: Browser, email: string, userAgent: string): Promise<Page> {
  const context = await browser.newContext({ userAgent });
  const page = await context.newPage();
  await page.goto(`${short}/login`);
  await waitForHydration(page);
  await signIn(page, email);
  await expect(page.getByTestId("viewer-email")).toHaveText(email);
  return page;
}

/** Waits out the access token (2 s, and 5 s of allowed clock skew), then runs `submit`,
 * which must renew it on the way. */
async function afterExpiry(page: Page, submit: () => Promise<void>): Promise<void> {
  await untilAccessTokenExpires(page, short);
  const refreshed = page.waitForResponse((r) => r.url().endsWith("/api/auth/refresh") && r.status() === 200);
  await submit();
  await refreshed;
}

test.describe("forms submitted after the access token expired", () => {
  test("signing a device out, and all other devices, on /devices", async ({ page, browser }) => {
    const email = uniqueEmail("expired-devices");
    await signUp(page, email, short);
    const firefox = await otherDevice(browser, email, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0");
    const safari = await otherDevice(
      browser,
      email,
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    );
    await page.goto(`${short}/devices`);
    await expect(page.getByTestId("device")).toHaveCount(3);
    await waitForHydration(page);

    // One device, with its confirmation step.
    await page.getByRole("link", { name: "Sign out Firefox 133 on Windows 10" }).click();
    await afterExpiry(page, () => page.getByRole("button", { name: "Yes, sign it out" }).click());
    await expect(page.getByRole("status")).toContainText("The device was signed out.");
    await expect(page.getByRole("alert")).toHaveCount(0);
    await expect(page.getByTestId("device")).toHaveCount(2);

    // Every other device.
    await afterExpiry(page, () => page.getByRole("button", { name: "Sign out of all other devices" }).click());
    await expect(page.getByRole("status")).toContainText("The device was signed out.");
    await expect(page.getByRole("alert")).toHaveCount(0);
    await expect(page.getByTestId("device")).toHaveCount(1);
    await expect(page.getByTestId("viewer-email")).toHaveText(email);

    await firefox.context().close();
    await safari.context().close();
  });

  test("checking the session on /devices, changing the password and deleting the account on /account", async ({ page }) => {
    const email = uniqueEmail("expired-account");
    await signUp(page, email, short);
    await page.goto(`${short}/devices`);
    await waitForHydration(page);
    await afterExpiry(page, () => page.getByRole("button", { name: "Check my session" }).click());
    await expect(page.getByTestId("session-check")).toContainText(email);

    await page.goto(`${short}/account`);
    await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
    await waitForHydration(page);

    const newPassword = "a brand new passphrase";
    await page.getByLabel("New password").fill(newPassword);
    await afterExpiry(page, () => page.getByRole("button", { name: "Change password" }).click());
    await expect(page.getByRole("status").filter({ hasText: "Your password was changed." })).toBeVisible();
    await expect(page.getByRole("alert")).toHaveCount(0);

    await page.getByLabel("I understand that my account").check();
    await afterExpiry(page, () => page.getByRole("button", { name: "Delete my account" }).click());
    await expect(page).toHaveURL(`${short}/login`);
    await expect(page.getByTestId("viewer-email")).toHaveCount(0);
  });

  test("the e-mail forms on /account: a new link, sign-in alerts, a new address", async ({ page }) => {
    const email = uniqueEmail("expired-email");
    await signUp(page, email, short);
    await page.goto(`${short}/account`);
    await expect(page.getByTestId("email-status")).toContainText("Not verified");
    await waitForHydration(page);

    await afterExpiry(page, () => page.getByRole("button", { name: "Send me a new link" }).click());
    await expect(page.getByTestId("email-notice")).toContainText("We have sent you a new link");

    await afterExpiry(page, () => page.getByRole("button", { name: "Turn sign-in alerts off" }).click());
    await expect(page.getByTestId("new-device-notice")).toHaveText("We do not e-mail you about sign-ins from new devices.");

    await page.getByLabel("New e-mail address").fill(uniqueEmail("expired-new"));
    await afterExpiry(page, () => page.getByRole("button", { name: "Send confirmation link" }).click());
    await expect(page.getByTestId("email-notice")).toContainText("Check the inbox of your new address");
    await expect(page.getByRole("alert")).toHaveCount(0);
  });
});
