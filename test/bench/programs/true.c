/* true: does nothing; timing it measures start-up and tear-down. */
int main(void) { return 0; }
