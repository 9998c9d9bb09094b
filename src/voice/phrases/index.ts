import { ar } from "./ar.js";
import { ca } from "./ca.js";
import { cs } from "./cs.js";
import { cy } from "./cy.js";
import { da } from "./da.js";
import { de } from "./de.js";
import { en } from "./en.js";
import { es } from "./es.js";
import { fi } from "./fi.js";
import { fr } from "./fr.js";
import { hi } from "./hi.js";
import { is } from "./is.js";
import { it } from "./it.js";
import { ja } from "./ja.js";
import { ko } from "./ko.js";
import { nb } from "./nb.js";
import { nl } from "./nl.js";
import { pl } from "./pl.js";
import { pt } from "./pt.js";
import { ro } from "./ro.js";
import { ru } from "./ru.js";
import { sv } from "./sv.js";
import { tr } from "./tr.js";
import type { Phrases } from "./types.js";
import { yue } from "./yue.js";
import { zh } from "./zh.js";

export type { Phrases } from "./types.js";

/**
 * The phrases of every language a call can be spoken in, by the bare language a request
 * may name (ISO 639-1 where it has one; Cantonese has none, so "yue"). The first five
 * were the service's first languages; the rest follow in alphabetical order.
 */
// prettier-ignore
export const PHRASES: Readonly<Record<string, Phrases>> = {
  en, es, fr, de, pt,
  ar, ca, cs, cy, da, fi, hi, is, it, ja, ko, nb, nl, pl, ro, ru, sv, tr, yue, zh,
};
