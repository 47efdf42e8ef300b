import { stdin, stderr } from "node:process";

/**
 * Reads one line from the terminal without echoing it (a PSKC passphrase, issue 17: never an argument, where `ps` and
 * the shell history would show it). Raw mode: each key is read as typed; Enter ends, Ctrl-C aborts, Backspace erases.
 */
export function readHidden(prompt: string): Promise<string> {
	return new Promise((resolve, reject) => {
		// Echo off first, then the prompt: a user typing the moment the prompt appears must not see the passphrase echoed
		// (the export's terminal test caught it the other way round).
		stdin.setRawMode(true);
		stdin.resume();
		stderr.write(prompt);
		let value = "";
		const done = (error?: Error): void => {
			stdin.setRawMode(false);
			stdin.pause();
			stdin.off("data", onData);
			stderr.write("\n");
			if (error === undefined) resolve(value);
			else reject(error);
		};
		const onData = (chunk: Buffer): void => {
			for (const char of chunk.toString("utf8")) {
				if (char === "\r" || char === "\n") return done();
				if (char === "\u0003") return done(new Error("interrupted"));
				if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
				else value += char;
			}
		};
		stdin.on("data", onData);
	});
}
