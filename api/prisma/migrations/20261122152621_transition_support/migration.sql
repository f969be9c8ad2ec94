-- AlterTable
ALTER TABLE "HandoverPupil" ADD COLUMN     "supportPlan" TEXT;
