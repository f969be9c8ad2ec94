-- AlterTable
ALTER TABLE "DropoutCase" ADD COLUMN     "childRegionCode" TEXT NOT NULL DEFAULT '';

-- CreateIndex
CREATE INDEX "DropoutCase_classId_openedAt_id_idx" ON "DropoutCase"("classId", "openedAt", "id");

-- CreateIndex
CREATE INDEX "DropoutCase_schoolId_openedAt_id_idx" ON "DropoutCase"("schoolId", "openedAt", "id");

-- CreateIndex
CREATE INDEX "DropoutCase_openedAt_id_idx" ON "DropoutCase"("openedAt", "id");

-- CreateIndex
CREATE INDEX "DropoutCase_regionCode_childRegionCode_idx" ON "DropoutCase"("regionCode", "childRegionCode");

-- CreateIndex
CREATE INDEX "DropoutCase_childRegionCode_idx" ON "DropoutCase"("childRegionCode");

-- The child's household region on the case (api/auth/scope.ts cases: the school's town OR the child's):
-- filled from "Child" on every insert and change of the child, and following the child's region when it
-- changes, so nothing that writes cases or children has to remember it.
UPDATE "DropoutCase" d SET "childRegionCode" = c."regionCode" FROM "Child" c WHERE c.id = d."childId";

CREATE FUNCTION dropout_case_child_region() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."childRegionCode" := coalesce((SELECT c."regionCode" FROM "Child" c WHERE c.id = NEW."childId"), '');
  RETURN NEW;
END $$;
CREATE TRIGGER dropout_case_child_region BEFORE INSERT OR UPDATE OF "childId", "childRegionCode" ON "DropoutCase"
  FOR EACH ROW EXECUTE FUNCTION dropout_case_child_region();

CREATE FUNCTION child_region_to_cases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "DropoutCase" SET "childRegionCode" = NEW."regionCode" WHERE "childId" = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER child_region_to_cases AFTER UPDATE OF "regionCode" ON "Child"
  FOR EACH ROW WHEN (OLD."regionCode" IS DISTINCT FROM NEW."regionCode") EXECUTE FUNCTION child_region_to_cases();
