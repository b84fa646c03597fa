/*
 * brook-conf-doc: writes docs/CONFIGURATION.md from the property table.
 */
#include <stdio.h>

#include "brook/brook.h"

int main(void)
{
        brook_conf_properties_show(stdout);
        return 0;
}
