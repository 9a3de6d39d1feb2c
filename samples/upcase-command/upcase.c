/* upcase: a WASI command (built into a wasi:cli/command component with the preview 1 adapter).
 * usage: upcase INPUT OUTPUT -- copies INPUT to OUTPUT with ASCII letters upper-cased, and prints
 * how many lines and words INPUT has, greeting $USER_NAME if it is set.  Exit status: 0, or 1 with
 * a message on stderr when a file cannot be opened. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s INPUT OUTPUT\n", argc ? argv[0] : "upcase");
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    if (!in) {
        fprintf(stderr, "%s: cannot open\n", argv[1]);
        return 1;
    }
    FILE *out = fopen(argv[2], "w");
    if (!out) {
        fprintf(stderr, "%s: cannot create\n", argv[2]);
        return 1;
    }
    long lines = 0, words = 0;
    int c, in_word = 0;
    while ((c = fgetc(in)) != EOF) {
        if (c == '\n')
            lines++;
        if (isspace(c))
            in_word = 0;
        else if (!in_word) {
            in_word = 1;
            words++;
        }
        fputc(toupper(c), out);
    }
    fclose(in);
    fclose(out);
    const char *name = getenv("USER_NAME");
    printf("hello, %s: %ld lines, %ld words in %s\n", name ? name : "stranger", lines, words, argv[1]);
    return 0;
}
