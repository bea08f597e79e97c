/*
 * check: the smallest test harness that does the job.
 *
 * Each tests/unit/test_<module>.c defines static test functions and a main()
 * that runs them with CHECK_RUN(fn). A failed CHECK prints file:line and the
 * expression, marks the test failed and goes on. CHECK_MAIN_END prints
 * "N passed, N failed" and returns non-zero on any failure, so CTest sees it.
 */
#ifndef KT_CHECK_H
#define KT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures_in_test;
static int check_passed, check_failed;

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);               \
            check_failures_in_test++;                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *check_a_ = (a), *check_b_ = (b);                                               \
        if (check_a_ == NULL || check_b_ == NULL || strcmp(check_a_, check_b_) != 0) {             \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s == %s (\"%s\" vs \"%s\")\n", __FILE__,    \
                    __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",                              \
                    check_b_ ? check_b_ : "(null)");                                               \
            check_failures_in_test++;                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        if (check_a_ != check_b_) {                                                                \
            fprintf(stderr, "%s:%d: CHECK_INT failed: %s == %s (%lld vs %lld)\n", __FILE__,        \
                    __LINE__, #a, #b, check_a_, check_b_);                                         \
            check_failures_in_test++;                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_RUN(fn)                                                                              \
    do {                                                                                           \
        check_failures_in_test = 0;                                                                \
        fn();                                                                                      \
        if (check_failures_in_test) {                                                              \
            check_failed++;                                                                        \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        } else {                                                                                   \
            check_passed++;                                                                        \
        }                                                                                          \
    } while (0)

#define CHECK_MAIN_END()                                                                           \
    do {                                                                                           \
        printf("%d passed, %d failed\n", check_passed, check_failed);                              \
        return check_failed ? 1 : 0;                                                               \
    } while (0)

/* out = <repo>/rel. <repo> comes from KT_TEST_DATA (<repo>/tests/data, set by
 * CMake) or, for a test run by hand, from this header's own path
 * (<repo>/tests/unit/check.h). */
static inline void
check_repo_path(char *out, size_t size, const char *rel)
{
    const char *data = getenv("KT_TEST_DATA");
    const char *from = data != NULL && data[0] != '\0' ? data : __FILE__;
    int up = from == data ? 2 : 3;
    char repo[1024];
    size_t len;

    snprintf(repo, sizeof repo, "%s", from);
    len = strlen(repo);
    while (len > 0 && repo[len - 1] == '/')
        repo[--len] = '\0';
    for (int i = 0; i < up; i++) {
        char *slash = strrchr(repo, '/');
        if (slash == NULL) {
            snprintf(repo, sizeof repo, ".");
            break;
        }
        *slash = '\0';
    }
    snprintf(out, size, "%s/%s", repo, rel);
}

#endif
