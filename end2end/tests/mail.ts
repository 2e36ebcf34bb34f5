import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "@playwright/test";
import { simpleParser } from "mailparser";

/** One message the test SMTP server received. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Every message in the Maildir the test SMTP server writes (playwright.config.ts). */
async function inbox(): Promise<Mail[]> {
  const dir = join(process.env.E2E_MAILDIR ?? "", "new");
  let files: string[] = [];
  try {
    files = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return Promise.all(
    files.map(async (file) => {
      const raw = readFileSync(join(dir, file));
      const parsed = await simpleParser(raw);
      const to = String(parsed.headers.get("x-rcptto") ?? "").trim();
      return { to, subject: parsed.subject ?? "", text: parsed.text ?? "", html: String(parsed.html || "") };
    }),
  );
}

/** Waits for the `count`-th message to `to` whose subject contains `subject`. */
export async function waitForMail(to: string, subject: string, count = 1): Promise<Mail> {
  let found: Mail[] = [];
  await expect
    .poll(
      async () => {
        found = (await inbox()).filter((m) => m.to === to && m.subject.includes(subject));
        return found.length;
      },
      { timeout: 15_000, message: `mail "${subject}" to ${to}` },
    )
    .toBeGreaterThanOrEqual(count);
  return found[count - 1];
}

/** The link with a token in a mail's plain-text body. */
export function linkIn(mail: Mail): string {
  const link = mail.text.split(/\s+/).find((word) => word.startsWith("http") && word.includes("token="));
  if (!link) throw new Error(`no link in mail:\n${mail.text}`);
  return link;
}
