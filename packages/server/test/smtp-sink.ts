import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface Mail {
	to: string[];
	raw: string;
	subject: string;
	/** The text part, decoded from quoted-printable as nodemailer writes it. */
	text: string;
}

/** A real SMTP server on loopback (smtp-server, TOOLS.md) that keeps what it receives. */
export class SMTPSink {
	readonly mails: Mail[] = [];
	private server: SMTPServer | undefined;
	url = "";

	async start(): Promise<void> {
		this.server = new SMTPServer({
			authOptional: true,
			disabledCommands: ["STARTTLS", "AUTH"],
			logger: false,
			onData: (stream, session, callback) => {
				let raw = "";
				stream.on("data", (chunk: Buffer) => (raw += chunk.toString("utf8")));
				stream.on("end", () => {
					this.mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, subject: header(raw, "subject"), text: textPart(raw) });
					callback();
				});
			},
		});
		await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
		this.url = `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
	}

	async stop(): Promise<void> {
		await new Promise<void>((resolve) => this.server?.close(() => resolve()));
	}

	/** The 6-digit code in the newest mail to this address. */
	codeFor(to: string): string {
		const mail = [...this.mails].reverse().find((m) => m.to.includes(to));
		const code = mail === undefined ? null : /\b(\d{6})\b/.exec(mail.text);
		if (code === null || code === undefined) throw new Error(`no code mailed to ${to}`);
		return code[1]!;
	}
}

function header(raw: string, name: string): string {
	const match = new RegExp(`^${name}: (.*(?:\\r?\\n[ \\t].*)*)`, "im").exec(raw);
	return match === null ? "" : match[1]!.replace(/\r?\n[ \t]/g, " ").trim();
}

function textPart(raw: string): string {
	const start = raw.search(/Content-Type: text\/plain/i);
	if (start === -1) return raw;
	const body = raw.slice(start).split(/\r?\n\r?\n/).slice(1).join("\n\n").split(/\r?\n--/)[0]!;
	return body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
