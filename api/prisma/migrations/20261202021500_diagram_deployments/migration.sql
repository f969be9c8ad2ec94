-- CreateEnum
CREATE TYPE "DiagramKind" AS ENUM ('PROCESS', 'DECISION');

-- AlterEnum
ALTER TYPE "AuditAction" ADD VALUE 'DEPLOY';

-- CreateTable
CREATE TABLE "DiagramDeployment" (
    "id" SERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "kind" "DiagramKind" NOT NULL,
    "resourceId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "definitionKey" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "username" TEXT NOT NULL,
    "comment" TEXT NOT NULL,
    "rollbackOf" INTEGER,

    CONSTRAINT "DiagramDeployment_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "DiagramDeployment_kind_resourceId_version_key" ON "DiagramDeployment"("kind", "resourceId", "version");
