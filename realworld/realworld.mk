# make realworld: the monthly cycle on real Debian 12 security updates of
# nginx and expat (realworld/run.sh).  Separate from `make check`: it adds a
# deb-src entry when apt has none, downloads the source packages, installs
# their build dependencies and builds each monthly revision (as root).
# Included by the Makefile.

# curl fetches a revision the mirror serves that apt's index no longer lists;
# dpkg-dev builds; bsdiff/xdelta3 are in bench/bench.mk.
DEB_PACKAGES += curl dpkg-dev python3

realworld: deps
	@$(MAKE) --no-print-directory tools
	@bash realworld/run.sh $(abspath $(B))/bin $(abspath $(O))/realworld

.PHONY: realworld
