import type { Phrases } from "./types.js";

// "धन्यवाद" (thank you) ends a call where English says goodbye.
export const hi: Phrases = {
  tag: "hi-IN",
  greeting: (org) => `नमस्ते। यह ${org} की ओर से आपके सत्यापन कोड के लिए कॉल है।`,
  pressToHear: (d) => `अपना कोड सुनने के लिए ${d} दबाएँ।`,
  codeIs: "आपका कोड है:",
  again: "फिर से:",
  pressToRepeat: "इसे फिर से सुनने के लिए कोई भी बटन दबाएँ।",
  goodbye: "धन्यवाद।",
  noKey: "माँगा गया बटन नहीं दबाया गया। धन्यवाद।",
  unavailable: "क्षमा करें, यह कोड अब उपलब्ध नहीं है। कृपया नया कोड मँगवाएँ। धन्यवाद।",
  machine: (org) => `यह ${org} की ओर से एक सत्यापन कॉल थी। इस संदेश में कोई कोड नहीं छोड़ा गया। धन्यवाद।`,
};
