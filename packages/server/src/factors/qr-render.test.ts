import QRCode from "qrcode";
import { describe, expect, it } from "vitest";
import { renderQR } from "./qr-render.js";
import { totpProvisioning } from "./totp/provisioning.js";

const uri = (i: number) => `otpauth://totp/Acme:user-${i}%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Acme&algorithm=SHA1&digits=6&period=30`;

/** The longest gap between 1 ms timer ticks while work runs: how long the event loop was held. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
	let last = performance.now();
	let longest = 0;
	const ticker = setInterval(() => {
		const now = performance.now();
		longest = Math.max(longest, now - last);
		last = now;
	}, 1);
	try {
		await new Promise((resolve) => setTimeout(resolve, 5));
		await work();
		await new Promise((resolve) => setTimeout(resolve, 5));
	} finally {
		clearInterval(ticker);
	}
	return longest;
}

describe("QR codes are rendered off the event loop (issue 12 finding 8, V-13)", () => {
	it("gives the same images the library renders in-process", async () => {
		const { svg, png } = await renderQR(uri(1));
		expect(svg).toBe(await QRCode.toString(uri(1), { type: "svg", errorCorrectionLevel: "M", margin: 2 }));
		expect(png).toBe(await QRCode.toDataURL(uri(1), { errorCorrectionLevel: "M", margin: 2, scale: 6 }));
		expect(png).toMatch(/^data:image\/png;base64,/);
	});

	it("40 enrollments' TOTP provisioning holds the event loop far less than rendering them in-process", async () => {
		await renderQR(uri(0));
		const count = 40;
		const inline = await longestStall(() =>
			Promise.all(
				Array.from({ length: count }, (_, i) =>
					Promise.all([
						QRCode.toString(uri(i), { type: "svg", errorCorrectionLevel: "M", margin: 2 }),
						QRCode.toDataURL(uri(i), { errorCorrectionLevel: "M", margin: 2, scale: 6 }),
					]),
				),
			),
		);
		// What enroll calls: factors/totp/provisioning.ts.
		const offLoop = await longestStall(() =>
			Promise.all(
				Array.from({ length: count }, (_, i) =>
					totpProvisioning({ secret: new Uint8Array(20).fill(i), issuer: "Acme", label: `user-${i}@example.com`, algorithm: "SHA1", digits: 6, periodInSeconds: 30 }),
				),
			),
		);
		// In-process, each PNG is ~18 ms of CPU in one block; off the loop only the messages remain.
		expect(inline).toBeGreaterThan(200);
		expect(offLoop, `longest stall ${offLoop.toFixed(0)} ms off the loop, ${inline.toFixed(0)} ms in-process`).toBeLessThan(inline / 4);
	});
});
