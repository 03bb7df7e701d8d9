/* banner: the greeting a server sends, set up at start-up */
#ifndef BANNER_API_H
#define BANNER_API_H
#include <cstddef>

const char *banner_text();
std::size_t banner_limit(std::size_t i);
#endif
