import { createTransport } from "nodemailer";

/** Outgoing mail, configured by the operator (TWOFOLD_SMTP_URL, TWOFOLD_SMTP_FROM): the only other outbound call Twofold makes. */
export interface Mailer {
	send(message: { to: string; subject: string; text: string; html: string }): Promise<void>;
	close(): void;
}

export function smtpMailer(smtp: { url: string; from: string }): Mailer {
	const transport = createTransport(smtp.url);
	return {
		async send(message) {
			await transport.sendMail({ from: smtp.from, ...message });
		},
		close() {
			transport.close();
		},
	};
}
