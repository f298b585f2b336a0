// libstdcxx N DELAY_MS: a C++ job for the minimal-root test. It writes to
// stderr which libstdc++ it runs with (from /proc/self/maps), then prints
// "line I" for I in 0..N-1 and "done" to stdout, DELAY_MS apart.
#include <fstream>
#include <iostream>
#include <string>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        std::cerr << "usage: libstdcxx N DELAY_MS" << std::endl;
        return 2;
    }
    long n = std::stol(argv[1]), delay = std::stol(argv[2]);
    std::ifstream maps("/proc/self/maps");
    std::string line, lib = "none";
    while (std::getline(maps, line)) {
        auto slash = line.find('/');
        if (slash != std::string::npos && line.find("libstdc++") != std::string::npos) {
            lib = line.substr(slash);
            break;
        }
    }
    std::cerr << "libstdc++ " << lib << std::endl;
    for (long i = 0; i < n; i++) {
        std::cout << "line " << i << std::endl;
        usleep(delay * 1000);
    }
    std::cout << "done" << std::endl;
    return 0;
}
