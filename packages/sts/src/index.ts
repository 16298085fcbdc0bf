export * from './documents/expense-document.ts';
