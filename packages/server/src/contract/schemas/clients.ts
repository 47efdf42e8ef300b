import { Type } from "@sinclair/typebox";
import { Timestamp } from "./common.js";
import { CREATE_CLIENT_EXAMPLES, UPDATE_CLIENT_EXAMPLES } from "./examples.js";
import { NO_CONTROL } from "./patterns.js";

const URI = Type.String({ minLength: 1, maxLength: 2048, description: "An exact absolute URI: https, or http only on a loopback host (127.0.0.1, [::1], localhost); no fragment, no user info." });
const RedirectURIs = Type.Array(URI, { minItems: 1, maxItems: 10, description: "Compared exactly (no wildcard, no prefix)." });
const LogoutURIs = Type.Array(URI, { maxItems: 10 });
const AuthMethod = Type.Union([Type.Literal("client_secret_basic"), Type.Literal("client_secret_post"), Type.Literal("private_key_jwt")], {
	description: "How the client authenticates at the token and PAR endpoints. Default client_secret_basic.",
});
const IdTokenAlg = Type.Union([Type.Literal("RS256"), Type.Literal("EdDSA")], { description: "The id_token's signature algorithm. Default RS256." });
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: NO_CONTROL.pattern, description: "Shown on the prompt's pages, labelled as the application." });
const JWKS = Type.Object(
	{ keys: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: 10 }) },
	{ additionalProperties: false, description: "private_key_jwt only: the client's public keys, inline. Private keys are refused." },
);

export const Client = Type.Object(
	{
		client_id: Type.String(),
		name: Type.String(),
		redirect_uris: Type.Array(Type.String()),
		post_logout_redirect_uris: Type.Array(Type.String()),
		token_endpoint_auth_method: AuthMethod,
		id_token_signed_response_alg: IdTokenAlg,
		jwks: Type.Optional(JWKS),
		created_at: Timestamp,
		updated_at: Timestamp,
	},
	{ $id: "Client", description: "A registered OpenID Connect client of the tenant (the hosted prompt); never its secret." },
);

export const ClientParams = Type.Object({ client_id: Type.String({ maxLength: 64 }) });

export const CreateClientBody = Type.Object(
	{
		name: Name,
		redirect_uris: RedirectURIs,
		post_logout_redirect_uris: Type.Optional(LogoutURIs),
		token_endpoint_auth_method: Type.Optional(AuthMethod),
		id_token_signed_response_alg: Type.Optional(IdTokenAlg),
		jwks: Type.Optional(JWKS),
		// Accepted by the schema only to be refused with a clear reason: fetching it would be an outbound call.
		jwks_uri: Type.Optional(Type.String({ maxLength: 2048, description: "Refused: Twofold makes no outbound call; register the keys inline in jwks." })),
	},
	{ additionalProperties: false, "x-examples": CREATE_CLIENT_EXAMPLES },
);
export const CreateClientResponse = Type.Object({
	client: Type.Ref(Client),
	client_secret: Type.Optional(Type.String({ description: "The client secret (client_secret_basic or _post), shown only here." })),
});
export const UpdateClientBody = Type.Object(
	{
		name: Type.Optional(Name),
		redirect_uris: Type.Optional(RedirectURIs),
		post_logout_redirect_uris: Type.Optional(LogoutURIs),
		id_token_signed_response_alg: Type.Optional(IdTokenAlg),
		jwks: Type.Optional(JWKS),
		jwks_uri: Type.Optional(Type.String({ maxLength: 2048, description: "Refused, as at creation." })),
	},
	{ additionalProperties: false, minProperties: 1, "x-examples": UPDATE_CLIENT_EXAMPLES },
);
export const ClientList = Type.Object({ clients: Type.Array(Type.Ref(Client)) });
