#include <stdio.h>
#include "api.h"

void probe(void)
{
	struct strbuf sb;

	sb_init(&sb);
	sb_add_field(&sb, "name", "web-1");
	sb_adds(&sb, ", ");
	sb_add_field(&sb, "-x", "-1");
	sb_adds(&sb, ", ");
	sb_add_field(&sb, "msg", "say \"hi\"\t\x1f\\");
	sb_adds(&sb, ", n: ");
	sb_add_uint(&sb, 1234567890UL);
	sb_adds(&sb, ", j: ");
	sb_add_json(&sb, "a\nb");
	printf("buf = %s\n", sb.failed ? "(failed)" : sb.buf);
	printf("len = %zu\n", sb.len);
	sb_release(&sb);
}
