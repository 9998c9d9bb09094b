import type { Phrases } from "./types.js";

/** Modern Standard Arabic, which both Arabic tags (arb, ar-AE) read. */
export const ar: Phrases = {
  tag: "arb",
  greeting: (org) => `مرحباً. هذه مكالمة من ${org} لإبلاغك برمز التحقق.`,
  pressToHear: (d) => `اضغط ${d} للاستماع إلى الرمز.`,
  codeIs: "رمزك هو:",
  again: "مرة أخرى:",
  pressToRepeat: "اضغط أي زر للاستماع إليه مرة أخرى.",
  goodbye: "مع السلامة.",
  noKey: "لم يتم الضغط على الزر المطلوب. مع السلامة.",
  unavailable: "عذراً، هذا الرمز لم يعد متاحاً. يرجى طلب رمز جديد. مع السلامة.",
  machine: (org) => `كانت هذه مكالمة تحقق من ${org}. لم يُترك أي رمز في هذه الرسالة. مع السلامة.`,
};
