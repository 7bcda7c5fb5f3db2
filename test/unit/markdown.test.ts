// Markdown a hostile text cannot break out of (shared/markdown.ts), checked
// against CommonMark's own rules for fences and code spans.
import { describe, expect, it } from "vitest";
import { fenced, inlineCode, visible } from "../../shared/markdown.ts";

describe("markdown that is safe to paste", () => {
  it("fences a text with a fence longer than any backtick run in it, so none of its lines closes the block", () => {
    expect(fenced("plain")).toBe("```text\nplain\n```");
    const hostile = "before\n```\n``````\n# heading\nafter ````````` end";
    const block = fenced(hostile);
    const fence = block.split("\n")[0]!.replace(/text$/, "");
    expect(fence).toBe("`".repeat(10));
    const inner = block.split("\n").slice(1, -1);
    expect(inner.join("\n")).toBe(hostile);
    // No inner line is a closing fence of this length (CommonMark: at least as many backticks, nothing after).
    for (const line of inner) expect(/^ {0,3}`{10,}\s*$/.test(line)).toBe(false);
    expect(block.endsWith(`\n${fence}`)).toBe(true);
  });

  it("shows control characters and bidi overrides as escapes, keeps tabs and newlines", () => {
    expect(visible("a\u001b[31mb\rc\u0000d\u202ee\tf\ng\u0085")).toBe("a\\x1b[31mb\\x0dc\\x00d\\u{202e}e\tf\ng\\x85");
    expect(fenced("x\u001b[2Jy")).toBe("```text\nx\\x1b[2Jy\n```");
  });

  it("puts a value in a code span it cannot close, on one line", () => {
    expect(inlineCode("/usr/bin/openclaw")).toBe("`/usr/bin/openclaw`");
    expect(inlineCode("a`b")).toBe("``a`b``");
    expect(inlineCode("``x")).toBe("``` ``x ```");
    expect(inlineCode("line one\nline two")).toBe("`line one ⏎ line two`");
    expect(inlineCode("")).toBe("`\u00a0`");
  });
});
