import { test, expect, type Page } from "@playwright/test";
import { signUp, uniqueEmail, untilAccessTokenExpires } from "./helpers";

/**
 * Device-bound sessions (DBSC) in real Chromium, over HTTPS (the "chromium-dbsc"
 * project: a server with a 6-second access token behind tls/proxy.mjs, and Chromium's
 * DBSC with software keys). Chrome reports what it did through CDP's
 * `Network.deviceBoundSessionEventOccurred`.
 */

type BoundSessionEvent = {
  succeeded?: boolean;
  sessionId?: string;
  creationEventDetails?: { fetchResult?: string };
  refreshEventDetails?: { refreshResult?: string; fetchResult?: string };
  challengeEventDetails?: { challengeResult?: string };
  terminationEventDetails?: unknown;
};

/** Every DBSC event of this page's browser from now on. */
async function watchBoundSessions(page: Page): Promise<BoundSessionEvent[]> {
  const events: BoundSessionEvent[] = [];
  const cdp = await page.context().newCDPSession(page);
  cdp.on("Network.deviceBoundSessionEventOccurred" as never, (event: BoundSessionEvent) => events.push(event));
  await cdp.send("Network.enable");
  await cdp.send("Network.enableDeviceBoundSessions" as never, { enable: true } as never);
  return events;
}

test("a new session is bound to the browser's key, renewed by proof, and copied cookies die", async ({
  page,
  browser,
  baseURL,
}) => {
  const events = await watchBoundSessions(page);
  const email = uniqueEmail("dbsc");
  await signUp(page, email);

  // Chrome answered the sign-up's invitation with a key of its own.
  await expect
    .poll(() => events.filter((e) => e.creationEventDetails?.fetchResult === "Success").length, { timeout: 15_000 })
    .toBe(1);
  await page.goto("/devices");
  await expect(page.getByTestId("bound-badge")).toHaveText("Bound to this device");

  // The bound access cookie lives as long as its 6-second token: Chrome renews it by
  // signing the server's challenge, and the person stays signed in.
  await expect
    .poll(() => events.filter((e) => e.refreshEventDetails?.refreshResult === "Refreshed").length, {
      timeout: 30_000,
    })
    .toBeGreaterThan(0);
  await page.goto("/devices");
  await expect(page.getByTestId("viewer-email")).toHaveText(email);
  await expect(page.getByTestId("bound-badge")).toBeVisible();
  expect(events.filter((e) => e.terminationEventDetails)).toEqual([]);

  // Malware copies every cookie to another browser, which has no key, and keeps them
  // past their expiry (it writes the cookie jar itself).
  const thief = await browser.newContext({ ignoreHTTPSErrors: true });
  const inAnHour = Date.now() / 1000 + 3600;
  await thief.addCookies((await page.context().cookies()).map((cookie) => ({ ...cookie, expires: inAnHour })));
  const thiefPage = await thief.newPage();
  await thiefPage.goto("/devices");
  await expect(thiefPage.getByTestId("viewer-email")).toHaveText(email);
  // Once the copied access token has expired, its refresh cookie renews nothing:
  // `/devices` sends the thief to the login page.
  await untilAccessTokenExpires(thiefPage, baseURL!);
  await thiefPage.goto("/devices");
  await expect(thiefPage).toHaveURL(/\/login/);
  await expect(thiefPage.getByTestId("viewer-email")).toHaveCount(0);
  await thief.close();

  // The original browser kept working all along, without a sign-in: its next page is
  // signed in, and its activity shows the refused copy.
  await page.goto("/activity");
  await expect(page).toHaveURL(/\/activity/);
  await expect(page.getByTestId("viewer-email")).toHaveText(email);
  await expect(page.getByText("Stolen cookies refused")).toBeVisible();
  await expect(page.getByText("Session bound to this device")).toBeVisible();
  expect(events.filter((e) => e.terminationEventDetails)).toEqual([]);
});
