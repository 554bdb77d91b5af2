// Reads the mail the test SMTP server filed. Python's email package decodes MIME (quoted-
// printable, base64, multipart) so that the tests see the plain text people read.
import { execFileSync } from "node:child_process";

const READ = `
import email, email.policy, json, os, sys
folder = os.path.join(sys.argv[1], "new")
out = []
for name in sorted(os.listdir(folder), key=lambda n: os.path.getmtime(os.path.join(folder, n))):
    with open(os.path.join(folder, name), "rb") as f:
        message = email.message_from_binary_file(f, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    out.append({"to": str(message["To"]), "subject": str(message["Subject"]), "text": body.get_content() if body else ""})
print(json.dumps(out))
`;

export type Mail = { to: string; subject: string; text: string };

function delivered(): Mail[] {
  return JSON.parse(execFileSync("python3", ["-c", READ, process.env.PORTICO_MAILDIR!]).toString());
}

/** Waits for the newest mail to `address` whose subject matches, beyond the first `skip`. */
export async function mailTo(address: string, subject: RegExp, skip = 0): Promise<Mail> {
  for (let i = 0; i < 150; i++) {
    const found = delivered().filter((m) => m.to.includes(address) && subject.test(m.subject));
    if (found.length > skip) return found[found.length - 1];
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${address} with a subject like ${subject} arrived within 30 s`);
}

/** How many mails to `address` with a matching subject have arrived. */
export function countMail(address: string, subject: RegExp): number {
  return delivered().filter((m) => m.to.includes(address) && subject.test(m.subject)).length;
}
