import { SaxesParser, type SaxesTagPlain } from "saxes";
import { TokenFileError } from "./import-record.js";

/**
 * The XML layer of the PSKC reader (RFC 6030): bytes in, one small element tree per child of <KeyContainer> out, in
 * file order. Only the child being read is held in memory (a <KeyPackage>, or the <EncryptionKey> and <MACMethod>
 * that come before the packages), so a 100,000-package file is read in bounded memory (issue 17).
 *
 * XML hardening (issue 17: "XML is parsed with DTDs, entities and external references off"; V-13): saxes is a
 * non-validating parser that never fetches anything and knows only the five predefined entities, and any DOCTYPE is
 * refused outright, so no entity (billion laughs) and no external reference (SYSTEM "file:///etc/passwd") can be
 * declared, let alone expanded. Every buffer is bounded: a text, a tree (its elements and all its characters), a depth,
 * and the bytes between two events.
 *
 * Names are matched by their local part, case-insensitively: prefixes differ between writers (pskc:, none), and
 * privacyIDEA's pi-tokenjanitor writes its PSKC through an HTML serializer that lower-cases every element and
 * attribute name (`<keypackage>`, `<key id=…>`). privacyIDEA's own importer strips prefixes the same way.
 */

export interface XmlElement {
	/** Local name, lower-case: "keypackage", "ciphervalue". */
	name: string;
	/** Attributes by local name, lower-case; namespace declarations left out. */
	attributes: Record<string, string>;
	children: XmlElement[];
	/** The element's own character data (text and CDATA), when it has no child elements. */
	text: string;
	/** The line the element starts on, for reports. */
	line: number;
}

export interface ContainerChild {
	element: XmlElement;
	/** 1-based position among the container's <KeyPackage> children; 0 for any other child. */
	packageIndex: number;
}

/** Bounds on what one child of the container may hold: far above any real token, far below a memory problem. */
export const XML_LIMITS = {
	textBytes: 64 * 1024,
	elementsPerChild: 2_000,
	/**
	 * Characters of text and attribute values one child holds in all: without it, 2,000 elements of 64 KiB each would
	 * keep 128 MiB of one KeyPackage in memory (the file streams; one package must stay small too). A real package holds
	 * under 4 KiB.
	 */
	charactersPerChild: 256 * 1024,
	depth: 32,
	/** Bytes read with no event (a tag, a text ending) in between: a giant comment, attribute or DOCTYPE. */
	bytesWithoutEvent: 1024 * 1024,
} as const;

export function childElement(parent: XmlElement | undefined, name: string): XmlElement | undefined {
	return parent?.children.find((child) => child.name === name);
}

/** The first element reached through `path` (local names, lower-case). */
export function findPath(parent: XmlElement | undefined, ...path: string[]): XmlElement | undefined {
	let current = parent;
	for (const name of path) current = childElement(current, name);
	return current;
}

export function attribute(element: XmlElement | undefined, name: string): string | undefined {
	return element?.attributes[name];
}

/** Characters handed to saxes at a time. */
const SLICE = 64 * 1024;

/**
 * Local names already computed: a PSKC file repeats a few dozen names on every package, and slicing and lower-casing
 * each one on every tag was a tenth of the reader's time. Bounded, so a file of ever-new names cannot grow it.
 */
const localNames = new Map<string, string>();
const LOCAL_NAMES_KEPT = 512;

function localName(qualified: string): string {
	const known = localNames.get(qualified);
	if (known !== undefined) return known;
	const colon = qualified.indexOf(":");
	const local = (colon === -1 ? qualified : qualified.slice(colon + 1)).toLowerCase();
	if (localNames.size < LOCAL_NAMES_KEPT) localNames.set(qualified, local);
	return local;
}

function lineOf(parser: SaxesParser): string {
	return `line ${parser.line}`;
}

/**
 * Reads a PSKC document and yields each child of its <KeyContainer> as a tree, once the child's end tag is read.
 * Throws TokenFileError for anything that is not a well-formed, DOCTYPE-free, UTF-8 PSKC document.
 */
export async function* readContainerChildren(input: AsyncIterable<Uint8Array>): AsyncGenerator<ContainerChild, void, undefined> {
	const parser = new SaxesParser({ xmlns: false, position: true });
	// Two decoders over the same bytes: `validator` sees every chunk whole, `slicer` its slices (decoding is about 1%).
	const validator = new TextDecoder("utf-8", { fatal: true });
	const slicer = new TextDecoder("utf-8", { fatal: true });
	const decode = (decoder: TextDecoder, bytes: Uint8Array | undefined, stream: boolean): string => {
		try {
			return decoder.decode(bytes, { stream });
		} catch {
			throw new TokenFileError("not_utf8", "the file is not valid UTF-8", lineOf(parser));
		}
	};
	const ready: ContainerChild[] = [];
	const stack: XmlElement[] = [];
	let depth = 0;
	let sawRoot = false;
	let rootClosed = false;
	let elementsInChild = 0;
	let charactersInChild = 0;
	let packages = 0;
	let bytesSinceEvent = 0;
	const event = () => {
		bytesSinceEvent = 0;
	};

	parser.on("error", (error) => {
		// saxes names the fault and its position; that text describes the XML, never a value of a key.
		throw new TokenFileError("xml_invalid", `the file is not well-formed XML: ${error.message}`, lineOf(parser));
	});
	parser.on("doctype", () => {
		throw new TokenFileError("doctype_refused", "a DOCTYPE is refused: PSKC needs no DTD, and a DTD can declare entities and external references", lineOf(parser));
	});
	parser.on("xmldecl", (declaration) => {
		event();
		const encoding = declaration.encoding?.toLowerCase();
		if (encoding !== undefined && encoding !== "utf-8" && encoding !== "utf8") {
			throw new TokenFileError("unsupported_encoding", "the file declares an encoding other than UTF-8", lineOf(parser));
		}
	});
	parser.on("processinginstruction", event);
	parser.on("comment", event);
	parser.on("opentag", (tag: SaxesTagPlain) => {
		event();
		const name = localName(tag.name);
		if (depth === 0) {
			if (sawRoot) throw new TokenFileError("xml_invalid", "more than one root element", lineOf(parser));
			if (name !== "keycontainer") throw new TokenFileError("not_pskc", "the root element is not a PSKC <KeyContainer> (RFC 6030)", lineOf(parser));
			const version = attributesOf(tag).version;
			if (version !== undefined && version.trim() !== "1.0") {
				throw new TokenFileError("unsupported_version", "the KeyContainer's Version is not 1.0 (RFC 6030 §4)", lineOf(parser));
			}
			sawRoot = true;
			depth = 1;
			return;
		}
		if (depth >= XML_LIMITS.depth) throw new TokenFileError("xml_too_deep", `elements are nested more than ${XML_LIMITS.depth} deep`, lineOf(parser));
		const element: XmlElement = { name, attributes: attributesOf(tag), children: [], text: "", line: parser.line };
		if (depth === 1) {
			elementsInChild = 0;
			charactersInChild = 0;
		}
		holdCharacters(attributeCharacters(element.attributes), stack[0]?.name ?? name);
		if (depth !== 1) {
			stack[stack.length - 1]!.children.push(element);
		}
		elementsInChild++;
		if (elementsInChild > XML_LIMITS.elementsPerChild) {
			throw new TokenFileError("xml_too_large", `a ${stack[0]?.name ?? name} element holds more than ${XML_LIMITS.elementsPerChild} elements`, lineOf(parser));
		}
		// saxes reports a self-closing tag's end as a closetag too, so every element is pushed and popped once.
		stack.push(element);
		depth++;
	});
	parser.on("closetag", () => {
		event();
		depth--;
		if (depth === 0) {
			rootClosed = true;
			return;
		}
		const element = stack.pop()!;
		if (element.children.length > 0) element.text = "";
		if (stack.length === 0) {
			const packageIndex = element.name === "keypackage" ? ++packages : 0;
			ready.push({ element, packageIndex });
		}
	});
	const holdCharacters = (count: number, childName: string) => {
		charactersInChild += count;
		if (charactersInChild > XML_LIMITS.charactersPerChild) {
			const child = childName === "keypackage" ? `KeyPackage ${packages + 1}` : `the ${childName} element`;
			throw new TokenFileError("xml_too_large", `${child} holds more than ${XML_LIMITS.charactersPerChild} characters of text and attributes in all`, lineOf(parser));
		}
	};
	const addText = (text: string) => {
		event();
		const top = stack[stack.length - 1];
		if (top === undefined) return;
		if (top.text.length + text.length > XML_LIMITS.textBytes) {
			throw new TokenFileError("xml_too_large", `the text of a ${top.name} element is longer than ${XML_LIMITS.textBytes} characters`, lineOf(parser));
		}
		holdCharacters(text.length, stack[0]!.name);
		top.text += text;
	};
	parser.on("text", addText);
	parser.on("cdata", addText);

	const feed = (text: string) => {
		if (text.length === 0) return;
		bytesSinceEvent += text.length;
		if (bytesSinceEvent > XML_LIMITS.bytesWithoutEvent) {
			throw new TokenFileError("xml_too_large", `more than ${XML_LIMITS.bytesWithoutEvent} characters without an element boundary`, lineOf(parser));
		}
		parser.write(text);
		// The bound is checked again after the write: one chunk may hold the whole run.
		if (bytesSinceEvent > XML_LIMITS.bytesWithoutEvent) {
			throw new TokenFileError("xml_too_large", `more than ${XML_LIMITS.bytesWithoutEvent} characters without an element boundary`, lineOf(parser));
		}
	};

	for await (const chunk of input) {
		// A whole chunk is checked first, so a UTF-8 fault is reported before any XML after it in the chunk, as when
		// chunks are small. Then it is fed in slices, handing on the trees after each, so that neither the no-event
		// bound nor the queue of finished packages depends on how large the caller's chunks are. The slices are
		// decoded from the bytes rather than cut from one long string: saxes reads a cut string (a V8 sliced string)
		// character by character a tenth slower than a string of its own (measured on the 100,000-package file).
		decode(validator, chunk, true);
		for (let offset = 0; offset < chunk.byteLength; offset += SLICE) {
			feed(decode(slicer, chunk.subarray(offset, offset + SLICE), true));
			while (ready.length > 0) yield ready.shift()!;
		}
	}
	decode(validator, undefined, false);
	feed(decode(slicer, undefined, false));
	if (!sawRoot) throw new TokenFileError("not_pskc", "the file holds no XML element", lineOf(parser));
	parser.close();
	while (ready.length > 0) yield ready.shift()!;
	if (!rootClosed) throw new TokenFileError("xml_invalid", "the file ends before </KeyContainer>", lineOf(parser));
}

// for…in rather than Object.entries: no array of pairs per tag (saxes' attribute names are never array indices).
function attributesOf(tag: SaxesTagPlain): Record<string, string> {
	const attributes: Record<string, string> = {};
	const given = tag.attributes;
	for (const qualified in given) {
		if (qualified === "xmlns" || qualified.startsWith("xmlns:")) continue;
		attributes[localName(qualified)] = given[qualified]!;
	}
	return attributes;
}

function attributeCharacters(attributes: Record<string, string>): number {
	let sum = 0;
	for (const key in attributes) sum += key.length + attributes[key]!.length;
	return sum;
}
