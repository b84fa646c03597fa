/*
 * 0004: the C example in README.md is the file examples/readme_consumer.c
 * (which the build compiles with -Wall -Wextra -Werror), so the README's
 * example always compiles.
 */
#include <string.h>

#include "test.h"

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "rb");
        char *buf;
        long n;

        TEST_ASSERT(f, "cannot open %s", path);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = calloc(1, (size_t)n + 1);
        TEST_ASSERT(fread(buf, 1, (size_t)n, f) == (size_t)n, "read %s", path);
        fclose(f);
        return buf;
}

int main(void)
{
        const char *src = getenv("BROOK_SOURCE_DIR");
        char path[1024];
        char *readme, *example, *start, *end;

        TEST_ASSERT(src, "BROOK_SOURCE_DIR is not set (run through ctest)");
        snprintf(path, sizeof(path), "%s/README.md", src);
        readme = slurp(path);
        snprintf(path, sizeof(path), "%s/examples/readme_consumer.c", src);
        example = slurp(path);
        start = strstr(readme, "```c\n");
        TEST_ASSERT(start, "README.md has no C example");
        start += 5;
        end = strstr(start, "```");
        TEST_ASSERT(end, "unterminated code block");
        *end = '\0';
        TEST_ASSERT(!strcmp(start, example), "README.md's example differs from "
                                             "examples/readme_consumer.c");
        TEST_ASSERT(strstr(readme, "make demo") &&
                        strstr(readme, "make test") &&
                        strstr(readme, "make demo") < strstr(readme, "```c"),
                    "README.md must start with make demo and make test");
        free(readme);
        free(example);
        return 0;
}
