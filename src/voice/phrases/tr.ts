import type { Phrases } from "./types.js";

export const tr: Phrases = {
  tag: "tr-TR",
  greeting: (org) => `Merhaba. Doğrulama kodunuz için ${org} arıyor.`,
  pressToHear: (d) => `Kodunuzu dinlemek için ${d} tuşuna basın.`,
  codeIs: "Kodunuz:",
  again: "Tekrar ediyorum:",
  pressToRepeat: "Tekrar dinlemek için herhangi bir tuşa basın.",
  goodbye: "İyi günler.",
  noKey: "İstenen tuşa basılmadı. İyi günler.",
  unavailable: "Üzgünüz, bu kod artık geçerli değil. Lütfen yeni bir kod isteyin. İyi günler.",
  machine: (org) => `Bu bir doğrulama aramasıydı. Arayan: ${org}. Bu mesajda kod bırakılmadı. İyi günler.`,
};
