#!/bin/bash
# docs/diagnostics.md must list every message hpdiff can print.
#
# The message texts are taken from the sources: the string literals passed
# to the functions that print messages or build reasons and report lines
# (error, warn, usage_error, fprintf, xasprintf, ...), the literals
# assigned to a `why` (reasons that a function or variable cannot be
# hotpatched), and the error texts of format/ that hpdiff prints (the
# hp_strerror table, the field names of .hpd decoding, relocation hints).
# Adjacent literals are joined, as the compiler joins them.
#
# Both sides are normalised before comparing: every printf conversion
# (%s, %zu, %llx, %.*s, %-8s, ...) in the sources and every <placeholder>
# in the catalog becomes one token, runs of such tokens become one, and
# white space is collapsed.  Each message must then appear in the catalog.
# Messages with no letters at all ("%s: %s") are not checked.
#
# Run by `make check` (test-cli); HP_BIN and HP_SAMPLES are not needed.
# Exit status: 0 every message is in the catalog, 1 some are missing
# (listed with file:line), 2 the check itself could not run.
set -uo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
catalog=$root/docs/diagnostics.md
[ -r "$catalog" ] || { echo "docs_catalog: $catalog is missing" >&2; exit 2; }

# Which calls carry message text, per source file.  "=why" collects the
# literals of an assignment to a variable named why (up to the `;`),
# "return" those of return statements.
sources=()
for f in "$root"/hpdiff/*.c; do sources+=("$f"); done
sources+=("$root/common/cli.c" "$root/common/mem.c" "$root/arch/x86_64/decode.c")
sources+=("$root/format/common.c" "$root/format/hpd.c" "$root/arch/x86_64/reloc.c")

calls_for() {
	local base=${1#"$root"/}
	local msgs="error warn usage_error =why"
	case $base in
	hpdiff/emit.c) echo "$msgs return refuse xasprintf xstrdup snprintf append" ;;
	hpdiff/compare.c | hpdiff/typelayout.c | hpdiff/diff.c | hpdiff/object.c | hpdiff/startup.c | \
	hpdiff/correlate.c)
		echo "$msgs refuse xasprintf xstrdup snprintf append" ;;
	hpdiff/report.c | hpdiff/inspect.c | hpdiff/main.c | common/cli.c | common/mem.c)
		echo "$msgs fprintf printf fputs puts xasprintf snprintf" ;;
	hpdiff/*) echo "$msgs" ;;
	arch/x86_64/decode.c) echo "$msgs return" ;;
	format/common.c) echo "hp_fail snprintf =messages" ;;
	format/hpd.c)
		echo "hp_fail hp_rbuf_fail fail_at get_copy get_relocs get_table hp_get_u8" \
			"hp_get_u16 hp_get_u32 hp_get_u64 hp_get_i64 hp_get_str hp_get_bytes" \
			"hp_get_reserved hp_get_count" ;;
	arch/x86_64/reloc.c) echo "snprintf return" ;;
	esac
}

# extract FILE CALLS: "LINE<TAB>TEXT" for every message literal of FILE.
# A small C tokenizer: comments, character literals and preprocessor lines
# are skipped, string literals are joined; then the literals inside the
# argument list of a listed call, or after `why =` / `return` / `messages[]
# =` up to the next `;`, are printed.
extract() {
	awk -v calls="$2" '
	function flush_str() {
		if (instr_tok) { ntok++; tk[ntok] = "S"; tv[ntok] = sbuf; tl[ntok] = sline; instr_tok = 0 }
	}
	function add(kind, val, line) {
		if (kind == "S") {
			if (instr_tok) { sbuf = sbuf val; return }
			instr_tok = 1; sbuf = val; sline = line; return
		}
		flush_str()
		ntok++; tk[ntok] = kind; tv[ntok] = val; tl[ntok] = line
	}
	BEGIN {
		n = split(calls, c, " ")
		for (i = 1; i <= n; i++) {
			if (substr(c[i], 1, 1) == "=") assign[substr(c[i], 2)] = 1
			else if (c[i] == "return") assign["return"] = 1
			else call[c[i]] = 1
		}
	}
	{ src = src $0 "\n" }
	END {
		len = length(src); line = 1; i = 1; bol = 1
		while (i <= len) {
			ch = substr(src, i, 1)
			if (ch == "\n") { line++; i++; bol = 1; continue }
			if (ch == " " || ch == "\t") { i++; continue }
			if (bol && ch == "#") {		# preprocessor line, with continuations
				while (i <= len) {
					ch = substr(src, i, 1)
					if (ch == "\\" && substr(src, i + 1, 1) == "\n") { i += 2; line++; continue }
					if (ch == "\n") break
					i++
				}
				continue
			}
			bol = 0
			two = substr(src, i, 2)
			if (two == "//") { while (i <= len && substr(src, i, 1) != "\n") i++; continue }
			if (two == "/*") {
				i += 2
				while (i <= len && substr(src, i, 2) != "*/") { if (substr(src, i, 1) == "\n") line++; i++ }
				i += 2; continue
			}
			if (ch == "\"" || ch == "\047") {
				q = ch; start = i; i++; val = ""
				while (i <= len) {
					d = substr(src, i, 1)
					if (d == "\\") { val = val substr(src, i, 2); i += 2; continue }
					if (d == q) break
					val = val d; i++
				}
				i++
				if (q == "\"") add("S", val, line)
				else add("P", "char", line)
				continue
			}
			if (ch ~ /[A-Za-z_]/) {
				j = i
				while (j <= len && substr(src, j, 1) ~ /[A-Za-z0-9_]/) j++
				add("I", substr(src, i, j - i), line); i = j; continue
			}
			add("P", ch, line); i++
		}
		flush_str()
		for (t = 1; t <= ntok; t++) {
			if (tk[t] != "I") continue
			if ((tv[t] in call) && tv[t + 1] == "(") {
				depth = 0
				for (u = t + 1; u <= ntok; u++) {
					if (tv[u] == "(" && tk[u] == "P") depth++
					else if (tv[u] == ")" && tk[u] == "P") { if (--depth == 0) break }
					else if (tk[u] == "S") print tl[u] "\t" tv[u]
				}
				continue
			}
			if (!(tv[t] in assign)) continue
			u = t + 1
			if (tv[t] == "return") {
				# a return of string literals only: return "..." or cond ? "..." : "..."
			} else {
				while (u <= ntok && tk[u] == "P" && (tv[u] == "[" || tv[u] == "]")) u++
				if (!(tk[u] == "P" && tv[u] == "=" && !(tk[u + 1] == "P" && tv[u + 1] == "=")))
					continue
			}
			for (; u <= ntok && !(tk[u] == "P" && tv[u] == ";"); u++)
				if (tk[u] == "S") print tl[u] "\t" tv[u]
		}
	}' "$1"
}

# normalise: one text per line on stdin, the normalised text on stdout.
# printf conversions and <placeholders> become "<>", runs of them one
# "<>", C escapes their character, white space one blank.
normalise() {
	awk '{
		s = $0
		gsub(/\\n|\\t/, " ", s)
		gsub(/\\"/, "\"", s)
		gsub(/\\\\/, "\\", s)
		gsub(/%%/, "\001", s)
		gsub(/%[-+ #0]*([0-9]+|\*)?(\.([0-9]+|\*))?(hh|h|ll|l|L|z|j|t)?[diouxXcsp]/, "\002", s)
		gsub(/<[^<>]*>/, "\002", s)
		gsub(/\001/, "%", s)
		gsub(/[ \t]+/, " ", s)
		gsub(/\002( ?\002)*/, "\002", s)
		gsub(/^ | $/, "", s)
		gsub(/\002/, "<>", s)
		print s
	}'
}

work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT

for f in "${sources[@]}"; do
	[ -r "$f" ] || { echo "docs_catalog: cannot read $f" >&2; exit 2; }
	extract "$f" "$(calls_for "$f")" | while IFS=$'\t' read -r line text; do
		printf '%s:%s\t%s\n' "${f#"$root"/}" "$line" "$text"
	done
done >"$work/raw" || exit 2
[ -s "$work/raw" ] || { echo "docs_catalog: no messages found in the sources" >&2; exit 2; }

cut -f2- "$work/raw" | normalise >"$work/norm"
cut -f1 "$work/raw" | paste - "$work/norm" >"$work/messages"
# The catalog as one line, normalised the same way.
tr '\n' ' ' <"$catalog" | normalise >"$work/catalog"

# Texts in those places that hpdiff never prints: hp_strerror(HP_OK).
never='success'
missing=$(awk -F '\t' -v never="$never" 'NR == FNR { cat = $0; next }
	$2 !~ /[A-Za-z]/ || $2 == never { next }
	index(cat, $2) == 0 { print "  " $1 ": " $2 }' "$work/catalog" "$work/messages")
total=$(awk -F '\t' -v never="$never" '$2 ~ /[A-Za-z]/ && $2 != never' "$work/messages" | wc -l)

if [ -n "$missing" ]; then
	echo "docs_catalog: messages of hpdiff missing from docs/diagnostics.md"
	echo "(placeholders written as <...>; the text after normalisation):"
	echo "$missing"
	echo "docs_catalog: $(echo "$missing" | wc -l) of $total messages missing"
	exit 1
fi
echo "docs_catalog: all $total message texts of hpdiff are in docs/diagnostics.md"
exit 0
