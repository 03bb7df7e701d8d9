/* squares: a table of squares filled by a constructor */
#ifndef SQUARES_API_H
#define SQUARES_API_H

int square_of(int i);
#endif
