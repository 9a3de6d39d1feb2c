/* sandbox: try to see outside the preopened directory /box, whose entry `link` is a symbolic link
 * to a directory outside it and whose directory `a` holds a file `inside`.
 *
 * Built with: python3 -m ziglang cc --target=wasm32-wasi -O2 -s -o sandbox.wasm sandbox.c
 * 1. open("/box/link", O_NOFOLLOW | O_DIRECTORY) (path_open with lookupflags 0): must fail.
 * 2. open the directory /box/a, then rename /box/a away and the link into its place: the descriptor
 *    still names the directory it was opened on, so listing it shows `inside`, not what the link
 *    points to.
 * Prints what it saw, one line per step.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void list(const char *what, int fd) {
    DIR *d = fdopendir(fd);
    if (!d) { printf("%s: fdopendir failed\n", what); return; }
    printf("%s:", what);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') printf(" %s", e->d_name);
    printf("\n");
    closedir(d);
}

int main(void) {
    int fd = open("/box/link", O_RDONLY | O_NOFOLLOW | O_DIRECTORY);
    if (fd < 0)
        printf("nofollow link: refused\n");
    else
        list("nofollow link", fd);

    fd = open("/box/a", O_RDONLY | O_DIRECTORY);
    if (fd < 0) { printf("open a: %s\n", strerror(errno)); return 1; }
    if (rename("/box/a", "/box/a2") != 0 || rename("/box/link", "/box/a") != 0) {
        printf("rename: %s\n", strerror(errno));
        return 1;
    }
    list("a after the swap", fd);
    return 0;
}
