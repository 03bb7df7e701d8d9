# Benchmarks (`make bench`, bench/run.sh): the reference tools they compare
# against.  Included by the Makefile.

# bench/hppack.sh: binary deltas of the same fix, next to the package (zstd
# is in the top list already).
DEB_PACKAGES += bsdiff xdelta3
