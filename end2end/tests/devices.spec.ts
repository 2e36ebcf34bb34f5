import { test, expect, type Browser, type Page } from "@playwright/test";
import { PASSWORD, ownClientAddress, signIn, signUp, uniqueEmail, waitForHydration } from "./helpers";

const FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SAFARI_IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/** Signs `email` in on a new browser context with its own User-Agent: another device. */
async function deviceSignedIn(browser: Browser, email: string, userAgent: string): Promise<Page> {
  const context = await browser.newContext({ userAgent });
  const page = await context.newPage();
  await page.goto("/login");
  await waitForHydration(page);
  await signIn(page, email);
  await expect(page.getByTestId("viewer-email")).toHaveText(email);
  return page;
}

test.describe("active devices", () => {
  test("A sees both devices, signs B out, and B's next navigation lands on login", async ({ page, browser }) => {
    const email = uniqueEmail("devices");
    await signUp(page, email);
    const phone = await deviceSignedIn(browser, email, FIREFOX_WINDOWS);

    await page.goto("/devices");
    const devices = page.getByTestId("device");
    await expect(devices).toHaveCount(2);
    await expect(devices.first()).toContainText("This device");
    await expect(devices.nth(1)).toContainText("Firefox 133 on Windows 10");

    await waitForHydration(page);
    await page.getByRole("link", { name: "Sign out Firefox 133 on Windows 10" }).click();
    await page.getByRole("button", { name: "Yes, sign it out" }).click();
    await expect(page.getByRole("status")).toContainText("The device was signed out.");
    await expect(devices).toHaveCount(1);

    // B's very next request is refused, long before its access token would expire.
    await phone.goto("/devices");
    await expect(phone).toHaveURL(/\/login\?next=\/devices&reason=revoked/);
    await expect(phone.getByRole("status")).toHaveText("This device was signed out.");
    await phone.context().close();
  });

  test("signing out of all other devices leaves only this one", async ({ page, browser }) => {
    const email = uniqueEmail("others");
    await signUp(page, email);
    const b = await deviceSignedIn(browser, email, FIREFOX_WINDOWS);
    const c = await deviceSignedIn(browser, email, SAFARI_IPHONE);

    await page.goto("/devices");
    await expect(page.getByTestId("device")).toHaveCount(3);
    await waitForHydration(page);
    await page.getByRole("button", { name: "Sign out of all other devices" }).click();
    await expect(page.getByRole("status")).toContainText("2 devices were signed out.");
    await expect(page.getByTestId("device")).toHaveCount(1);

    for (const other of [b, c]) {
      await other.goto("/devices");
      await expect(other).toHaveURL(/reason=revoked/);
      await other.context().close();
    }
  });

  test("signing out this device from the list signs it out", async ({ page }) => {
    const email = uniqueEmail("self");
    await signUp(page, email);
    await page.goto("/devices");
    await waitForHydration(page);
    await page.getByRole("button", { name: "Sign out of this device" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByTestId("viewer-email")).toHaveCount(0);
  });

  test("screenshots of the devices page with three devices at phone and desktop widths", async ({ page, browser }, info) => {
    const email = uniqueEmail("shots");
    await signUp(page, email);
    const b = await deviceSignedIn(browser, email, FIREFOX_WINDOWS);
    const c = await deviceSignedIn(browser, email, SAFARI_IPHONE);
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto("/devices");
      await expect(page.getByTestId("device")).toHaveCount(3);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: info.outputPath(`devices-${width}.png`), fullPage: true });
    }
    await b.context().close();
    await c.context().close();
  });
});

test.describe("active devices without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the confirmation step and sign-out work as plain links and forms", async ({ page, browser }) => {
    const email = uniqueEmail("nojs-devices");
    await page.goto("/signup?next=/devices");
    await page.getByLabel("E-mail address").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page).toHaveURL(/\/devices$/);
    const other = await browser.newContext({ userAgent: FIREFOX_WINDOWS, javaScriptEnabled: false });
    const otherPage = await other.newPage();
    await otherPage.goto("/login");
    await signIn(otherPage, email);
    await expect(otherPage.getByTestId("viewer-email")).toHaveText(email);

    await page.goto("/devices");
    await page.getByRole("link", { name: "Sign out Firefox 133 on Windows 10" }).click();
    await expect(page).toHaveURL(/confirm=/);
    await page.getByRole("button", { name: "Yes, sign it out" }).click();
    await expect(page).toHaveURL(/done=one/);
    await expect(page.getByRole("status")).toContainText("The device was signed out.");
    await expect(page.getByTestId("device")).toHaveCount(1);
    await other.close();
  });
});

test.describe("account security", () => {
  test("a password change on A signs B out, and A's activity lists what happened", async ({ page, browser }) => {
    const email = uniqueEmail("password");
    await signUp(page, email);
    const phone = await deviceSignedIn(browser, email, FIREFOX_WINDOWS);

    await page.goto("/account");
    await waitForHydration(page);
    await page.getByLabel("New password").fill("a brand new passphrase");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect(page.getByRole("status")).toHaveText("Your password was changed and 1 other device was signed out.");

    await phone.goto("/devices");
    await expect(phone).toHaveURL(/reason=revoked/);
    await expect(phone.getByRole("status")).toHaveText("This device was signed out.");
    await phone.context().close();

    await page.goto("/activity");
    const items = page.getByTestId("activity-item");
    await expect(items.first()).toContainText("Password changed");
    await expect(items.first()).toContainText("1 device signed out");
    await expect(items.nth(1)).toContainText("Sign-in from a new device");
    await expect(items.nth(1)).toContainText("Firefox 133 on Windows 10");
  });

  test("signing a device out from another is listed in the activity, naming both", async ({ page, browser }) => {
    const email = uniqueEmail("activity");
    await signUp(page, email);
    const phone = await deviceSignedIn(browser, email, FIREFOX_WINDOWS);
    await page.goto("/devices");
    await waitForHydration(page);
    await page.getByRole("link", { name: "Sign out Firefox 133 on Windows 10" }).click();
    await page.getByRole("button", { name: "Yes, sign it out" }).click();
    await expect(page.getByRole("status")).toContainText("The device was signed out.");
    await page.goto("/activity");
    await expect(page.getByTestId("activity-item").first()).toContainText(
      /Firefox 133 on Windows 10 was signed out from Chrome \d+ on/,
    );
    await phone.context().close();
  });

  test("deleting the account signs out and the address can sign up again", async ({ page }) => {
    await ownClientAddress(page);
    const email = uniqueEmail("delete");
    await signUp(page, email);
    await page.goto("/account");
    await waitForHydration(page);
    await page.getByLabel("I understand that my account").check();
    await page.getByRole("button", { name: "Delete my account" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByRole("status")).toHaveText("Your account has been deleted.");
    await signIn(page, email);
    await expect(page.getByRole("alert")).toHaveText("Wrong e-mail address or password.");
  });
});

test("a signed-out device learns it from its next server call, without reloading first", async ({ page, browser }) => {
  const email = uniqueEmail("call");
  await signUp(page, email);
  const phone = await deviceSignedIn(browser, email, FIREFOX_WINDOWS);
  await phone.goto("/devices");
  await waitForHydration(phone);

  await page.goto("/devices");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Sign out Firefox 133 on Windows 10" }).click();
  await page.getByRole("button", { name: "Yes, sign it out" }).click();
  await expect(page.getByRole("status")).toContainText("The device was signed out.");

  await phone.getByRole("button", { name: "Check my session" }).click();
  await expect(phone).toHaveURL(/\/login\?next=\/devices&reason=revoked/);
  await expect(phone.getByRole("status")).toHaveText("This device was signed out.");
  await phone.context().close();
});
