/*
 * 1006: two consumers in one group (eager rebalance protocol) split the
 * partitions and together see every message; the second joins while the
 * first is consuming. The scenario and its checks: tests/lib/group_split.c.
 */
#include "test.h"

int main(void)
{
        return test_group_split("t1006", NULL, 10);
}
