#include "diff.h"
int check_layouts(struct diff *d) { (void)d; return 0; }
