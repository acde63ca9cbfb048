#include <stdio.h>

#ifndef GREETING
#define GREETING "hello"
#endif

int main(void)
{
    printf("%s\n", GREETING);
    return 0;
}
