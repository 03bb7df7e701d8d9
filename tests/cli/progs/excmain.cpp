// The unchanging main() of exc.cpp's program: one answer line per input line.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

int pass(int v);
int guarded(int v);
int leaf(int v);

int main()
{
	char line[64];

	while (std::fgets(line, sizeof(line), stdin)) {
		int v = std::atoi(line);

		try {
			std::printf("leaf %d guarded %d pass %d\n", leaf(v), guarded(v), pass(v));
		} catch (const std::out_of_range &e) {
			std::printf("leaf %d caught %s\n", leaf(v), e.what());
		}
		std::fflush(stdout);
	}
	return 0;
}
