/*
 * 1010: as 1006, with the cooperative rebalance protocol
 * (kafka.partition.assignment.strategy=cooperative-sticky). The scenario
 * and its checks: tests/lib/group_split.c.
 */
#include "test.h"

int main(void)
{
        return test_group_split("t1010", "cooperative-sticky", 40);
}
