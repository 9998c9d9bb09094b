import type { Phrases } from "./types.js";

export const ko: Phrases = {
  tag: "ko-KR",
  greeting: (org) => `안녕하세요. ${org}에서 인증 코드를 알려 드립니다.`,
  pressToHear: (d) => `코드를 들으시려면 ${d}번을 눌러 주세요.`,
  codeIs: "인증 코드는",
  again: "다시 한 번 알려 드립니다.",
  pressToRepeat: "다시 들으시려면 아무 버튼이나 눌러 주세요.",
  goodbye: "감사합니다.",
  noKey: "요청한 버튼이 눌리지 않았습니다. 감사합니다.",
  unavailable: "죄송합니다. 이 코드는 더 이상 사용할 수 없습니다. 새 코드를 요청해 주세요. 감사합니다.",
  machine: (org) => `${org}의 인증 전화였습니다. 이 메시지에는 코드가 남겨지지 않았습니다. 감사합니다.`,
};
