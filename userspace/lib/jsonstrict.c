// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Escaped NULs and duplicate member names in JSON text: see jsonstrict.h.
 *
 * The text is scanned once: inside strings for "\u0000", outside them for
 * the members of each object, counted by their ':' in the order the
 * objects open. json-c keeps a duplicate name once, so an object with one
 * has fewer members parsed than written; the parsed objects, visited in
 * the same (pre-)order, are compared count by count. Before the first
 * object with a duplicate the two orders are the same, so that object is
 * where they first differ.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jsonstrict.h"

struct counts {
	size_t *n;	/* members of each object, in the order they open */
	size_t len;
	size_t next;	/* the next one to compare */
};

/*
 * Visit the objects under @o in pre-order, comparing their lengths with
 * @c. The depth is bounded by the parser's (TPLFS_MSG_DEPTH), not by the
 * input.
 */
static bool same_counts(json_object *o, struct counts *c)
{
	if (json_object_is_type(o, json_type_object)) {
		if (c->next >= c->len ||
		    c->n[c->next++] != (size_t)json_object_object_length(o))
			return false;
		json_object_object_foreach(o, key, val) {
			(void)key;
			if (!same_counts(val, c))
				return false;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);

		for (size_t i = 0; i < n; i++)
			if (!same_counts(json_object_array_get_idx(o, i), c))
				return false;
	}
	return true;
}

const char *tplfs_json_strict_check(const char *buf, size_t len,
				    json_object *root)
{
	/* open containers: the index of an object's count, or -1 (array) */
	/* at most one container a byte, whatever json-c made of the text */
	long *open = malloc((len + 1) * sizeof(*open));
	struct counts c = { .n = malloc((len + 1) * sizeof(size_t)) };
	const char *why = NULL;
	size_t depth = 0;
	bool ok;

	if (!open || !c.n) {
		why = "out of memory";
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		switch (buf[i]) {
		case '"':
			for (i++; i < len && buf[i] != '"'; i++) {
				if (buf[i] != '\\')
					continue;
				if (len - i >= 6 && !memcmp(buf + i, "\\u0000", 6)) {
					why = "a string holds \\u0000 (a NUL)";
					goto out;
				}
				i++;	/* the escaped character */
			}
			break;
		case '\'':
			/* json-c takes a single-quoted member name even in
			 * strict mode; RFC 8259 has none */
			goto malformed;
		case '{':
			c.n[c.len] = 0;
			open[depth++] = (long)c.len++;
			break;
		case '[':
			open[depth++] = -1;
			break;
		case '}':
		case ']':
			if (depth == 0)
				goto malformed;
			depth--;
			break;
		case ':':
			if (depth == 0 || open[depth - 1] < 0)
				goto malformed;
			c.n[open[depth - 1]]++;
			break;
		}
	}
	ok = same_counts(root, &c) && c.next == c.len;
	if (!ok)
		why = "an object names a member twice";
	goto out;
malformed:	/* what json-c parsed is not what we scanned */
	why = "malformed JSON";
out:
	free(open);
	free(c.n);
	return why;
}
