/* shapes: areas through a virtual method */
#ifndef SHAPES_API_H
#define SHAPES_API_H

/* the area of the registered shape `which` scaled by `scale`, or -1 */
long shape_area(int which, long scale);
#endif
