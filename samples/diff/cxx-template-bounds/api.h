/* view: bounds-checked reads from a caller's array, for two element types */
#ifndef VIEW_API_H
#define VIEW_API_H
#include <cstddef>

int view_pair_int(const int *data, std::size_t n, std::size_t i);
double view_pair_double(const double *data, std::size_t n, std::size_t i);
#endif
