//! Pure domain: money, schedules, penalty, allocation, settlement, bills.
