"""The allocation REST API, mounted under /api/v1/."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from allocation.apis import AllocationRunApi, CostCategoryApi

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("cost-categories", CostCategoryApi, basename="costcategory-api")
router.register("allocation-runs", AllocationRunApi, basename="allocationrun-api")

urlpatterns = router.urls
