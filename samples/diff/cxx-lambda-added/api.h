/* ops: a value through a chain of steps held in std::function objects */
#ifndef OPS_API_H
#define OPS_API_H

int ops_run(int v, int k);
#endif
