import type { Clock } from "../clock.js";
import type { Keyring } from "../core/keyring.js";
import type { RandomReader } from "../core/random.js";
import type { Store } from "../store/store.js";

/** Everything a service needs, passed down explicitly (no container). */
export interface ServiceDeps {
	store: Store;
	keyring: Keyring;
	clock: Clock;
	random: RandomReader;
}
