-- AlterEnum
ALTER TYPE "AuditAction" ADD VALUE 'MIGRATE';
