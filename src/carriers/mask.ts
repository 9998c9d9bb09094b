import { maskNumber } from "../phone.js";

// Carrier messages quote the number ("The 'To' number +1415… is not valid"); the
// message reaches logs and API clients, so numbers in it are masked.
export const maskNumbers = (text: string) => text.replace(/\+?\d[\d ()-]{6,}\d/g, (m) => maskNumber(m.replace(/[^\d+]/g, "")));
