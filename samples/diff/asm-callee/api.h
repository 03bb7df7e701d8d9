/* frame checksums: public interface */
#ifndef FRAMESUM_API_H
#define FRAMESUM_API_H
unsigned frame_mix(unsigned v);
unsigned frame_sum(unsigned v);
#endif
