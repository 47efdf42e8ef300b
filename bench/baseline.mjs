// The yardstick: a bare Fastify POST route that parses JSON and answers JSON, nothing else.
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.post("/v1/users/:user_id/verify", async (request) => ({ valid: true, method: "totp", user: request.params.user_id, echo: typeof request.body }));
const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`Server listening at ${address}\n`);
process.on("SIGTERM", () => app.close().then(() => process.exit(0)));
