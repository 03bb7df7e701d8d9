/*
 * hppack's pipeline: from .hpd files to a package, against the baseline
 * binary, one stage after the other (each in its own file).  Past loading,
 * a refusal does not stop the stages after it: every reason is said, then
 * nothing is written.
 */
#include <stdlib.h>
#include <string.h>

#include "hppack/packer.h"
#include "common/mem.h"

static void pack_free(struct packer *p)
{
	for (size_t i = 0; i < p->nin; i++) {
		hp_hpd_free(p->in[i].h);
		free(p->in[i].scope);
		free(p->in[i].code_of);
		free(p->in[i].data_of);
		free(p->in[i].bound_of);
		free(p->in[i].shared);
		free(p->in[i].fbound_of);
		free(p->in[i].replaces);
		free(p->in[i].span);
		free(p->in[i].falias_at);
		free(p->in[i].falias);
		free(p->in[i].dalias_at);
		free(p->in[i].dalias);
		free(p->in[i].lookup);
	}
	free(p->in);
	for (uint32_t i = 0; i < p->pl.ncode; i++) {
		free(p->pl.code[i].name);
		free(p->pl.code[i].code);
		free(p->pl.code[i].relocs);
	}
	free(p->pl.code);
	for (uint32_t i = 0; i < p->pl.ndata; i++) {
		free(p->pl.data[i].name);
		free(p->pl.data[i].init);
		free(p->pl.data[i].relocs);
	}
	free(p->pl.data);
	for (uint32_t i = 0; i < p->pl.nimports; i++)
		free(p->pl.imports[i].name);
	free(p->pl.imports);
	free(p->pl.replaced);
	for (uint32_t i = 0; i < p->nfuncs; i++)
		free(p->funcs[i].name);
	free(p->funcs);
	free(p->func_code);
	free(p->tools);
	free(p->named);
	for (size_t i = 0; i < p->cap_said; i++)
		free(p->said[i]);
	free(p->said);
	memset(p, 0, sizeof(*p));
}

static enum outcome run(struct packer *p, char **paths, size_t n, const struct pack_opts *o)
{
	enum outcome out;

	/* load: p->in, every .hpd decoded and sorted by object; none unpatchable, none twice */
	out = pack_load_inputs(p, paths, n);
	if (out != OUTCOME_OK)
		return out;
	/* p->b: the baseline's image, symbols, PLT and GOT; p->machine, every .hpd's */
	if (pack_load_baseline(p, o->baseline, o->symbols) < 0)
		return OUTCOME_TROUBLE;
	/* per input: alias lists and empty symbol lookups; p->named, the new globals */
	if (pack_index_names(p) < 0)
		return OUTCOME_TROUBLE;
	/* a baseline linked with LTO holds no object's code: nothing below could be proven */
	if (p->b->lto)
		return pack_refuse_lto_baseline(p);
	/*
	 * From here on a refusal does not stop the stages after it, so that
	 * every reason is said; trouble does.
	 *
	 * find: in->replaces, each proven to be the OLD code; in->group for file-locals
	 */
	out = pack_find(p);
	/* place: in->code_of and in->data_of, or the baseline's own (fbound_of, bound_of) */
	if (out != OUTCOME_TROUBLE)
		out = outcome_worst(out, pack_place(p));
	/* resolve: every placed reference an image offset, a block, an import or a constant */
	if (out != OUTCOME_TROUBLE)
		out = outcome_worst(out, pack_resolve(p));
	/* p->funcs: the replaced functions by address (the manifest's order), none twice */
	if (out != OUTCOME_TROUBLE)
		out = outcome_worst(out, pack_list_replaced(p));
	if (out == OUTCOME_OK && !p->nfuncs)
		out = refuse(p, "nothing to replace: the .hpd files hold no changed function");
	if (out != OUTCOME_OK)
		return out;
	/* write: payload, MANIFEST, [signature], renamed into place as o->out */
	return pack_write(p, o);
}

enum outcome pack(char **paths, size_t n, const struct pack_opts *o)
{
	struct baseline b = {0};
	struct packer p = {.b = &b};
	enum outcome out = run(&p, paths, n, o);

	pack_free(&p);
	baseline_free(&b);
	return out;
}
